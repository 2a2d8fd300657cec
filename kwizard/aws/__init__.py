"""Creating, watching and removing kwizard's AWS hosts."""
