"""Auto-rules: a condition over a case (:mod:`.expr`), an action, a daily cap for money; kept with
their versions and runs (:mod:`.repo`), checked (:mod:`.service`), dry-run and run after each
shop's sync (:mod:`.runner`), driven by ``hub auto`` (:mod:`.cli`)."""
