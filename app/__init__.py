"""newsdesk: the answering chain, the CLI and the settings that wire the components together."""
