// Compiled (tsc, strict) against the types openapi-typescript generates from
// spec/openapi.yaml into ./schema.d.ts. Each @ts-expect-error line is a body the
// types must refuse: if it compiled, tsc reports the directive as unused.
import type { components, paths } from "./schema";

type PatientCreate = components["schemas"]["PatientCreate"];
type PatientUpdate = components["schemas"]["PatientUpdate"];
type Created = paths["/patients"]["post"]["responses"][201]["content"]["application/json"];
type Invalid = paths["/patients"]["post"]["responses"][422]["content"]["application/json"];
type Listed = paths["/patients"]["get"]["responses"][200]["content"]["application/json"];
type Missing = paths["/patients/{id}"]["get"]["responses"][404]["content"]["application/json"];
type ListQuery = NonNullable<paths["/patients"]["get"]["parameters"]["query"]>;

export const minimal: PatientCreate = { first_name: "Maria", last_name: "Hoxha" };
export const full: PatientCreate = {
  first_name: "Maria", last_name: "Hoxha", email: null, phone: "069 123 4567", phone_country: "AL",
  gender: "female", locale: "sq", external_id: "ext_2841",
};
// @ts-expect-error: last_name is required by the create model
export const noLastName: PatientCreate = { first_name: "Maria" };
// @ts-expect-error: first_name is required by the create model
export const noFirstName: PatientCreate = { last_name: "Hoxha" };
// @ts-expect-error: gender is one of male, female, other
export const badGender: PatientCreate = { first_name: "Maria", last_name: "Hoxha", gender: "f" };
export const clearEmail: PatientUpdate = { email: null };
export const archive: PatientUpdate = { is_active: false };
export const query: ListQuery = { q: "hoxha", fields: ["allergies", "vip"], lang: "mk", per_page: 100 };
// @ts-expect-error: fields names expansion fields only
export const badQuery: ListQuery = { fields: ["shoe_size"] };

export function messages(body: Invalid): string[] {
  return Object.entries(body.errors).flatMap(([field, said]) => said.map((m) => `${field} ${m}`));
}

export function names(page: Listed): string[] {
  return page.data.map((p) => `${p.id} ${p.first_name} ${p.last_name} ${p.email ?? "-"}`);
}

export function createdId(body: Created): number {
  return body.data.id;
}

export function notFound(body: Missing): string {
  return body.error;
}
