"""Users (用户): accounts, roles per location, sign-in and its throttle, sessions."""
