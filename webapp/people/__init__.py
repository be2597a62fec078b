"""People: accounts, roles and pairings, logging in, passwords and login sessions."""
