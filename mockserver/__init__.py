"""The Dentare Patients API mock server, generated from spec/openapi.yaml."""
