"""Service discovery: providers that turn files, HTTP endpoints and the Kubernetes API into
target groups, and the manager that hands each job's groups to scraping."""
