"""Reports: the plan as Markdown (this issue); evaluation, model card and HTML report come with later stages."""
