pytest_plugins = ["crnt_shared.testing"]
