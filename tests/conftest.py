pytest_plugins = ["hub.testing.fixtures"]
