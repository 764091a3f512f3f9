"""Running it as a team: servers, ports, credentials, users, deploy settings, notices. Not flows."""
