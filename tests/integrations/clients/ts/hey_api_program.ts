// Compiled (tsc, strict) against the SDK and types @hey-api/openapi-ts
// generates from spec/openapi.yaml into ./hey. Each @ts-expect-error line is a
// call the types must refuse: if it compiled, tsc reports the directive as unused.
import { createClient } from "./hey/client";
import { createPatient, getPatient, listPatients, updatePatient } from "./hey/sdk.gen";
import type { PatientCreate, PatientEnvelope, ValidationError } from "./hey/types.gen";

export async function integrate(baseUrl: string, token: string): Promise<string[]> {
  const client = createClient({ baseUrl, auth: token });
  const said: string[] = [];

  const body: PatientCreate = { first_name: "Maria", last_name: "Hoxha", external_id: "ts-1" };
  const created = await createPatient({ client, body });
  if (created.error !== undefined) {
    said.push(created.error.error);
    if ("errors" in created.error) {
      const invalid: ValidationError = created.error;
      said.push(...Object.keys(invalid.errors));
    }
    return said;
  }
  const patient: PatientEnvelope = created.data;
  const id = patient.data.id;

  // @ts-expect-error: a create without last_name does not type-check
  await createPatient({ client, body: { first_name: "Maria" } });
  // @ts-expect-error: the path id is a number
  await getPatient({ client, path: { id: "4821" } });

  const read = await getPatient({ client, path: { id }, query: { fields: ["allergies", "vip"], lang: "mk" } });
  said.push(read.data?.data.display_name ?? "-");
  const page = await listPatients({ client, query: { q: "hoxha", is_active: false, per_page: 100 } });
  said.push(...(page.data?.data.map((p) => `${p.id} ${p.last_name}`) ?? []));
  const updated = await updatePatient({ client, path: { id }, body: { email: null, is_active: false } });
  said.push(String(updated.data?.data.is_active));
  return said;
}
