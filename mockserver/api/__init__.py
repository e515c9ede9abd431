"""The API layer: the Dentare API generated from the spec. Routes, request
validation and response shapes are compiled from the operations; handlers
hold only the business logic and talk to the store through `Backend`."""
