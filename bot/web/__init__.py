"""The web console (`skillbot web`): the hotline desk and the administration pages, a channel
like the Telegram adapters — it calls storage, knowledge and handlers, and nothing calls it."""
