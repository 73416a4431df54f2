"""Reading the web safely: a guarded HTTP client, news feeds, and links turned into documents."""
