"""The HTTP edge: authentication, request schemas, views, error mapping and the routes."""

OPENAPI_PATH = "/openapi.json"  # the API's description, served by the claims API function
