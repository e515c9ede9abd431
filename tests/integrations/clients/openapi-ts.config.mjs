// @hey-api/openapi-ts, as tests/integrations/clients/generators.py runs it:
// types, SDK and the fetch client, with hey-api's own spec validation on.
export default {
  input: process.env.DENTARE_HEY_INPUT ?? '../../../spec/openapi.yaml',
  output: process.env.DENTARE_HEY_OUTPUT ?? 'generated/hey',
  logs: { file: false },
  parser: { validate_EXPERIMENTAL: 'warn' },
  plugins: ['@hey-api/client-fetch', '@hey-api/typescript', '@hey-api/sdk'],
};
