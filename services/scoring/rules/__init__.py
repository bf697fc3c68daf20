"""Rule tables shipped with the scoring service, one TOML file per version (data, not code).

Read them with ``services.scoring.domain.rules.RuleBook.load_default()``.
"""
