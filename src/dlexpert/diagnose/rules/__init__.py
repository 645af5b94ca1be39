"""The built-in diagnosis rules, one module per family; importing this package registers them all.

    numerics     nan_inf (NaN/Inf or divergence), loss_spike
    gradients    exploding_gradients, vanishing_gradients, dead_relu
    fit          overfitting, train_val_gap, underfitting
    progress     slow_convergence, loss_oscillation
    schedule     lr_not_decaying
    throughput   data_bottleneck
    outputs      poor_initialization, constant_prediction
    failure      divergence (the loss ends above its start and its best), stuck (a frozen loss, accuracy at chance,
                 a GRPO run's groups scoring alike), invalid_loss

Every rule is a pure function of a `RunHistory` that returns None when its series are missing. Its docstring states
symptom, cause and remedy for the user; its thresholds are module constants whose comments cite where they come from
(AUTOTRAINER, Amazon SageMaker Debugger, the seed's checklist, Karpathy's recipe, problems.yaml) or say "heuristic".
"""

from . import failure, fit, gradients, numerics, outputs, progress, schedule, throughput

__all__ = ["failure", "fit", "gradients", "numerics", "outputs", "progress", "schedule", "throughput"]
