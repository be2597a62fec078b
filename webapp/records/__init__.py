"""Session records on the server: storage and merge projections, the form, review and conflicts."""
