"""The HTTP edge: authentication, request schemas, views, error mapping and the routes."""
