"""Hostile input to the commands that never train: plan, catalog, schema, diagnose, profile and datasets. Each case
plants its input in a scratch folder, runs the command there, and checks exit code 2 (or 0 where the input is
merely odd), one `error:` line naming the file, field or option, no traceback, a few seconds at most, and nothing
written or changed in the folder."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from dlexpert._io import current_umask

from .conftest import assert_refused, invoke

GOOD = "task: {type: classification, domain: CV}\ndata: {size: 10k images}\nconstraints: {computeResources: CPU}\n"


def spec(**fields: str) -> Callable[[Path], None]:
    """A task spec `task.yaml` whose `section.key` fields are replaced by raw YAML text."""
    doc = {"task": {"type": "classification", "domain": "CV"}, "data": {"size": "10k images"},
           "constraints": {"computeResources": "CPU"}}  # fmt: skip

    def make(d: Path) -> None:
        for dotted, value in fields.items():
            section, key = dotted.split("__")
            doc[section][key] = value
        lines = [f"{s}:\n" + "".join(f"  {k}: {v}\n" for k, v in kv.items()) for s, kv in doc.items()]
        (d / "task.yaml").write_text("".join(lines))

    return make


def text(name: str, content: str | bytes) -> Callable[[Path], None]:
    def make(d: Path) -> None:
        path = d / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)

    return make


def fifo(name: str) -> Callable[[Path], None]:
    return lambda d: os.mkfifo(d / name)


def folder(name: str, files: int = 0) -> Callable[[Path], None]:
    def make(d: Path) -> None:
        (d / name).mkdir()
        for i in range(files):
            (d / name / f"f{i}.txt").write_text("a\n")

    return make


def both(*makers: Callable[[Path], None]) -> Callable[[Path], None]:
    def make(d: Path) -> None:
        for m in makers:
            m(d)

    return make


def nothing(d: Path) -> None:
    pass


BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefg", "bcdefgh", strict=True))
    + "task: *h\n"
)

# (id, setup, argv, exit code, words the error line holds)
CASES: list[tuple[str, Callable[[Path], None], list[str], int, tuple[str, ...]]] = [
    # --- plan: the spec file itself
    ("plan-missing", nothing, ["plan", "nope.yaml"], 2, ("nope.yaml", "no such file")),
    ("plan-folder", folder("specs"), ["plan", "specs"], 2, ("specs", "is a directory")),
    ("plan-fifo", fifo("spec.fifo"), ["plan", "spec.fifo"], 2, ("spec.fifo", "FIFO")),
    ("plan-dev-zero", nothing, ["plan", "/dev/zero"], 2, ("/dev/zero", "character device")),
    ("plan-empty", text("task.yaml", ""), ["plan", "task.yaml"], 2, ("task.yaml", "empty")),
    ("plan-blank", text("task.yaml", "\n\n   \n"), ["plan", "task.yaml"], 2, ("task.yaml", "empty")),
    ("plan-binary", text("task.yaml", b"\xff\xfe\x00garbage\x80"), ["plan", "task.yaml"], 2, ("not UTF-8",)),
    ("plan-huge", text("task.yaml", "# " + "x" * (2 << 20)), ["plan", "task.yaml"], 2, ("byte limit",)),
    (
        "plan-duplicate-key",
        text("task.yaml", GOOD + "task: {type: detection, domain: CV}\n"),
        ["plan", "task.yaml"],
        2,
        ("line 4", "'task' is given twice"),
    ),
    ("plan-alias-bomb", text("task.yaml", BOMB), ["plan", "task.yaml"], 2, ("aliases expand",)),
    ("plan-deep-yaml", text("task.yaml", "a: " + "[" * 5000), ["plan", "task.yaml"], 2, ("nested deeper",)),
    ("plan-deep-json", text("task.json", "[" * 100_000), ["plan", "task.json"], 2, ("nested too deeply",)),
    ("plan-bad-yaml", text("task.yaml", "task: {type: [\n"), ["plan", "task.yaml"], 2, ("invalid YAML",)),
    ("plan-bad-json", text("task.json", '{"task": }'), ["plan", "task.json"], 2, ("invalid JSON", "line 1")),
    ("plan-list", text("task.yaml", "- a\n- b\n"), ["plan", "task.yaml"], 2, ("expected a mapping",)),
    ("plan-scalar", text("task.yaml", "42\n"), ["plan", "task.yaml"], 2, ("expected a mapping",)),
    (
        "plan-python-tag",
        text("task.yaml", "task: !!python/object/apply:os.system ['echo hi']\n"),
        ["plan", "task.yaml"],
        2,
        ("invalid YAML",),
    ),
    ("plan-unknown-key", spec(task__tpye="classification"), ["plan", "task.yaml"], 2, ("unknown key 'task.tpye'",)),
    ("plan-unknown-domain", spec(task__domain="banana"), ["plan", "task.yaml"], 2, ("unknown domain",)),
    ("plan-task-not-mapping", text("task.yaml", "task: classification\n"), ["plan", "task.yaml"], 2, ("task",)),
    ("plan-size-negative", spec(data__size='"-5"'), ["plan", "task.yaml"], 2, ("data.size", "negative")),
    ("plan-size-1e400", spec(data__size='"1e400 images"'), ["plan", "task.yaml"], 2, ("data.size", "plausible")),
    ("plan-size-10^400", spec(data__size='"10^400 images"'), ["plan", "task.yaml"], 2, ("data.size", "plausible")),
    ("plan-size-nan", spec(data__size='"nan images"'), ["plan", "task.yaml"], 2, ("data.size", "finite")),
    ("plan-size-inf", spec(data__size='"inf images"'), ["plan", "task.yaml"], 2, ("data.size", "finite")),
    ("plan-size-zero", spec(data__size='"0 images"'), ["plan", "task.yaml"], 2, ("data.size", "at least one")),
    (
        "plan-size-1MB-digits",
        spec(data__size='"' + "9" * (1 << 19) + '"'),
        ["plan", "task.yaml"],
        2,
        ("data.size", "characters)"),
    ),
    (
        "plan-budget-40k-digits",
        spec(constraints__budget='"' + "9" * 40_000 + '"'),
        ["plan", "task.yaml"],
        2,
        ("constraints.budget", "40000 characters"),
    ),
    (
        "plan-gpus-negative",
        spec(constraints__computeResources='"-4x A100"'),
        ["plan", "task.yaml"],
        2,
        ("computeResources", "negative"),
    ),
    (
        "plan-gpus-zero",
        spec(constraints__computeResources='"0x A100"'),
        ["plan", "task.yaml"],
        2,
        ("computeResources", "at least 1"),
    ),
    (
        "plan-gpu-0GB",
        spec(constraints__computeResources='"single-GPU 0GB"'),
        ["plan", "task.yaml"],
        2,
        ("computeResources", "greater than zero"),
    ),
    (
        "plan-latency-negative",
        spec(constraints__latencyRequirement='"<-5ms"'),
        ["plan", "task.yaml"],
        2,
        ("latencyRequirement", "negative"),
    ),
    (
        "plan-latency-zero",
        spec(constraints__latencyRequirement='"<0ms"'),
        ["plan", "task.yaml"],
        2,
        ("latencyRequirement", "greater than zero"),
    ),
    (
        "plan-accuracy-150",
        spec(constraints__accuracyTarget='"top-1 acc > 150%"'),
        ["plan", "task.yaml"],
        2,
        ("accuracyTarget",),
    ),
    (
        "plan-model-size-zero",
        spec(constraints__modelSizeLimit='"<0MB"'),
        ["plan", "task.yaml"],
        2,
        ("modelSizeLimit", "greater than zero"),
    ),
    ("plan-format-xml", text("task.yaml", GOOD), ["plan", "task.yaml", "--format", "xml"], 2, ("--format",)),
    (
        "plan-out-dev-null",
        text("task.yaml", GOOD),
        ["plan", "task.yaml", "-o", "/dev/null"],
        2,
        ("/dev/null", "character device"),
    ),
    (
        "plan-out-fifo",
        both(text("task.yaml", GOOD), fifo("out.fifo")),
        ["plan", "task.yaml", "-o", "out.fifo"],
        2,
        ("out.fifo", "FIFO"),
    ),
    (
        "plan-out-folder",
        both(text("task.yaml", GOOD), folder("out")),
        ["plan", "task.yaml", "-o", "out"],
        2,
        ("out", "directory"),
    ),
    (
        "plan-out-no-folder",
        text("task.yaml", GOOD),
        ["plan", "task.yaml", "-o", "no/such/plan.md"],
        2,
        ("no/such", "does not exist"),
    ),
    (
        "plan-out-long-name",
        text("task.yaml", GOOD),
        ["plan", "task.yaml", "-o", "p" * 300 + ".md"],
        2,
        ("cannot be written", "too long"),
    ),
    ("plan-no-argument", nothing, ["plan"], 2, ("Missing argument",)),
    ("plan-unknown-option", text("task.yaml", GOOD), ["plan", "task.yaml", "--frobnicate"], 2, ("--frobnicate",)),
    ("unknown-command", nothing, ["frobnicate"], 2, ("No such command",)),
    # --- catalog and schema
    ("catalog-max-latency-negative", nothing, ["catalog", "--max-latency-ms", "-1"], 2, ("--max-latency-ms",)),
    ("catalog-max-params-zero", nothing, ["catalog", "--max-params", "0"], 2, ("--max-params",)),
    ("catalog-max-params-nan", nothing, ["catalog", "--max-params", "nan"], 2, ("--max-params",)),
    ("catalog-max-params-inf", nothing, ["catalog", "--max-params", "inf"], 2, ("--max-params",)),
    ("catalog-limit-zero", nothing, ["catalog", "--limit", "0"], 2, ("--limit",)),
    ("catalog-task-banana", nothing, ["catalog", "--task", "banana"], 2, ("--task",)),
    ("catalog-format-xml", nothing, ["catalog", "--format", "xml"], 2, ("--format",)),
    ("catalog-unknown-hardware", nothing, ["catalog", "--hardware", "toaster"], 2, ("toaster",)),
    ("schema-banana", nothing, ["schema", "banana"], 2, ("banana",)),
    # --- diagnose
    ("diagnose-missing", nothing, ["diagnose", "nope.csv"], 2, ("nope.csv", "no such file")),
    ("diagnose-fifo", fifo("log.fifo"), ["diagnose", "log.fifo"], 2, ("log.fifo", "FIFO")),
    ("diagnose-dev-zero", nothing, ["diagnose", "/dev/zero"], 2, ("/dev/zero", "character device")),
    ("diagnose-empty", text("log.csv", ""), ["diagnose", "log.csv"], 2, ("log.csv",)),
    ("diagnose-binary", text("log.bin", os.urandom(4096)), ["diagnose", "log.bin"], 2, ("log.bin",)),
    ("diagnose-no-numbers", text("log.csv", "a,b\nx,y\nz,w\n"), ["diagnose", "log.csv"], 2, ("log.csv",)),
    ("diagnose-json-not-a-log", text("cfg.json", '{"lr": "high"}'), ["diagnose", "cfg.json"], 2, ("cfg.json",)),
    ("diagnose-empty-folder", folder("run"), ["diagnose", "run"], 2, ("run",)),
    ("diagnose-5001-files", folder("data", files=5001), ["diagnose", "data"], 2, ("over 5000 files",)),
    (
        "diagnose-format-xml",
        text("log.csv", "step,loss\n1,2\n2,1\n"),
        ["diagnose", "log.csv", "--format", "xml"],
        2,
        ("--format",),
    ),
    (
        "diagnose-out-dev-null",
        text("log.csv", "step,loss\n1,2\n2,1\n3,0.5\n"),
        ["diagnose", "log.csv", "-o", "/dev/null"],
        2,
        ("/dev/null", "character device"),
    ),
    (
        "diagnose-deep-json",
        text("trainer_state.json", "[" * 100_000),
        ["diagnose", "trainer_state.json"],
        2,
        ("trainer_state.json",),
    ),
    # --- profile and datasets
    ("profile-missing", nothing, ["profile", "nowhere"], 2, ("nowhere",)),
    ("profile-format-xml", nothing, ["profile", "digits", "--format", "xml"], 2, ("--format",)),
    ("profile-image-size-huge", nothing, ["profile", "digits", "--image-size", "30000"], 2, ("--image-size",)),
    ("profile-image-size-tiny", nothing, ["profile", "digits", "--image-size", "1"], 2, ("--image-size",)),
    ("profile-empty-csv", text("t.csv", ""), ["profile", "t.csv"], 2, ("t.csv",)),
    ("profile-header-only", text("t.csv", "a,b,label\n"), ["profile", "t.csv"], 2, ("t.csv",)),
    ("profile-horizon-zero", nothing, ["profile", "store-sales", "--horizon", "0"], 2, ("--horizon",)),
    ("profile-bad-freq", nothing, ["profile", "store-sales", "--freq", "fortnightly"], 2, ("--freq",)),
    ("profile-empty-folder", folder("imgs"), ["profile", "imgs"], 2, ("imgs",)),
    ("profile-fifo-table", fifo("d.csv"), ["profile", "d.csv"], 2, ("d.csv", "FIFO")),
    ("profile-fifo-npz", fifo("d.npz"), ["profile", "d.npz"], 2, ("d.npz", "FIFO")),
    (
        "profile-link-to-dev-zero",
        lambda d: os.symlink("/dev/zero", d / "z.csv"),
        ["profile", "z.csv"],
        2,
        ("z.csv", "character device"),
    ),
    (
        "profile-forecast-test-fifo",
        fifo("t.csv"),
        ["profile", "store-sales", "--test", "t.csv", "--horizon", "28"],
        2,
        ("t.csv", "FIFO"),
    ),
    ("datasets-extra-argument", nothing, ["datasets", "x"], 2, ("unexpected extra argument",)),
]


@pytest.mark.parametrize(("setup", "argv", "code", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_input_is_refused_in_one_line_and_leaves_the_folder_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setup: Callable[[Path], None], argv: list[str], code: int,
    words: tuple[str, ...],
) -> None:  # fmt: skip
    setup(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert_refused(argv, tmp_path, code, words)


def test_a_refused_spec_on_stdin_reads_no_more_than_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    r = invoke("plan", "-", stdin=b"\0" * (3 << 20))
    assert r.code == 2 and "over the 1,048,576-byte limit" in r.error_line()


def test_a_spec_with_merge_keys_and_a_few_aliases_still_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "task.yaml").write_text(
        "defaults: &d {type: classification, domain: CV}\ntask: {<<: *d, specificTask: cats}\n"
        "data: {size: 10k images}\nconstraints: {computeResources: CPU}\n"
    )
    r = invoke("plan", "task.yaml", "--format", "json")
    assert r.code == 2 and "unknown key 'defaults'" in r.error_line()  # the merge itself was read
    (tmp_path / "task.yaml").write_text(GOOD)
    assert invoke("plan", "task.yaml", "-o", "plan.md").code == 0
    mode = stat.S_IMODE((tmp_path / "plan.md").stat().st_mode)
    assert mode == 0o666 & ~current_umask()  # the umask decides, as for any file a tool writes


def test_an_empty_data_source_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "task.yaml").write_text(GOOD)
    assert "the data source is empty" in invoke("profile", "").error_line()
    assert "--data: empty" in invoke("train", "task.yaml", "--data", "", "--out", "run").error_line()
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (PermissionError(13, "Permission denied", "secret/task.yaml"), "secret/task.yaml: Permission denied"),
        (OSError(28, "No space left on device", "runs/a/plan.json"), "runs/a/plan.json: No space left on device"),
        (OSError(36, "File name too long", "x" * 300), "File name too long"),
    ],
)
def test_operating_system_errors_a_user_causes_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], error: OSError, words: str
) -> None:
    """Root ignores file permissions and this machine's disk is not full, so the errors are raised directly."""
    import typer

    from dlexpert.cli._common import handle_errors

    @handle_errors
    def command() -> None:
        raise error

    with pytest.raises(typer.Exit) as info:
        command()
    err = capsys.readouterr().err
    assert info.value.exit_code == 2 and words in err and "internal error" not in err and err.count("\n") == 1
