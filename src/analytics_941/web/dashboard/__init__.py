"""The dashboard: its URL state, the queries a view runs, the views, the routes for members and
share links, and the CSV export."""
