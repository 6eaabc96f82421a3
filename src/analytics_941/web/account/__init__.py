"""The signed-in user's side: login and passkey ceremonies, account and token settings, and the
sites, members and share links an owner manages."""
