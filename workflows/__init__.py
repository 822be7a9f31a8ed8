"""The award domain: organisations, awards, rules and the services that run nominations on the engine."""
