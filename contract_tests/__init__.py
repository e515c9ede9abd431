"""Contract tests: check any deployment of the Dentare Patients API against the spec."""
