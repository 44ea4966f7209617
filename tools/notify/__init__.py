"""Messages to people: an outbox in the HR store that channels (chat, e-mail) deliver from."""
