"""The tablet: its app shell, its JSON API (session, keys, pack) and its device credentials."""
