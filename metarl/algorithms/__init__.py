"""Meta-learning algorithms; each package exposes the CLI interface (CONFIG, PRESETS, make_config,
build_learner, evaluate, plot_evaluation)."""
