"""The HTTP API: thin views over the service layer, and the hooks every request passes."""
