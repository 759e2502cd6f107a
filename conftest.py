pytest_plugins = ["dialplane.testing"]
