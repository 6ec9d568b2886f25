"""Home pages: the landing page and one home per role. Sits above every domain."""
