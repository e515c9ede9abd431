"""Tools around the mock, each a `dentare-mock` subcommand: the validating
proxy, the CSV import and the Postman generator."""
