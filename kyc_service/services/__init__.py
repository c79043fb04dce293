"""The service layer: the use cases, over the domain, the ports and a unit of work."""
