"""One module per wizard step (plus the welcome screen); stylesheets live in the top-level screens/."""
