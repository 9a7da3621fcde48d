// Turns a kube-apiserver's OpenAPI v2 document into the standalone, strict JSON
// schemas kubeconform reads offline: one file per kind, named the way kubeconform's
// `{{ .ResourceKind }}{{ .KindSuffix }}.json` template expands, so the schemas
// describe exactly the API version the test ground runs.
//
// The Python openapi2jsonschema package (0.9.1, the last release) does not install
// on Python 3.11: it pins PyYAML<6, whose source build fails with Cython 3. This is
// the same conversion, in a few rules.

import { mkdirSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";

export type Schema = { [keyword: string]: unknown };

export interface OpenApiV2 {
  readonly swagger: string;
  readonly definitions: Readonly<Record<string, Schema>>;
}

interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

const REF_PREFIX = "#/definitions/";
const QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity";

/** GET /openapi/v2 as the kubeconfig's user (client certificate or token). */
export async function fetchOpenApiV2(kc: KubeConfig): Promise<OpenApiV2> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("the kubeconfig has no current cluster");
  const options: Parameters<typeof request>[1] = { headers: { accept: "application/json" } };
  await kc.applyToHTTPSOptions(options);
  const { status, body } = await new Promise<{ status: number; body: string }>(
    (resolve, reject) => {
      const req = request(new URL("/openapi/v2", cluster.server), options, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on("error", reject);
      req.end();
    },
  );
  if (status !== 200) throw new Error(`GET /openapi/v2 answered ${status}: ${body.slice(0, 300)}`);
  const doc = JSON.parse(body) as OpenApiV2;
  if (doc.swagger !== "2.0" || typeof doc.definitions !== "object") {
    throw new Error("GET /openapi/v2 did not return an OpenAPI 2.0 document with definitions");
  }
  return doc;
}

/**
 * The file name kubeconform looks up: lowercase kind, then the first label of the
 * group (none for the core group), then the version: `daemonset-apps-v1.json`,
 * `clusterrole-rbac-v1.json`, `serviceaccount-v1.json`.
 */
export function kubeconformFileName({ group, version, kind }: GroupVersionKind): string {
  const groupLabel = group === "" ? "" : `-${group.split(".")[0]}`;
  return `${kind}${groupLabel}-${version}.json`.toLowerCase();
}

/**
 * One standalone schema per kind the document defines, by file name. Definitions a
 * kind refers to are bundled into its own `definitions` (recursive ones such as
 * JSONSchemaProps cannot be inlined), so no file refers to another.
 */
export function kubeconformSchemas(doc: OpenApiV2): Map<string, Schema> {
  const files = new Map<string, Schema>();
  const owners = new Map<string, string>();
  for (const [name, definition] of Object.entries(doc.definitions)) {
    for (const gvk of groupVersionKinds(definition)) {
      const file = kubeconformFileName(gvk);
      // Two groups sharing a first label would make kubeconform pick the wrong schema.
      const owner = owners.get(file);
      if (owner !== undefined && owner !== name) {
        throw new Error(`${name} and ${owner} both map to ${file}`);
      }
      owners.set(file, name);
      files.set(file, kindSchema(doc, name, gvk));
    }
  }
  return files;
}

/** Writes every kind's schema into dir; returns how many files were written. */
export function writeKubeconformSchemas(doc: OpenApiV2, dir: string): number {
  mkdirSync(dir, { recursive: true });
  const files = kubeconformSchemas(doc);
  for (const [file, schema] of files) writeFileSync(join(dir, file), JSON.stringify(schema));
  return files.size;
}

function groupVersionKinds(definition: Schema): GroupVersionKind[] {
  const list = definition["x-kubernetes-group-version-kind"];
  return Array.isArray(list) ? (list as GroupVersionKind[]) : [];
}

function kindSchema(doc: OpenApiV2, name: string, gvk: GroupVersionKind): Schema {
  const root = convert(definitionOf(doc, name));
  const properties = root.properties as Record<string, Schema> | undefined;
  // Pin apiVersion and kind, so a file is never used for another kind by mistake.
  if (properties?.apiVersion && properties.kind) {
    const apiVersion = gvk.group === "" ? gvk.version : `${gvk.group}/${gvk.version}`;
    properties.apiVersion = { type: "string", enum: [apiVersion] };
    properties.kind = { type: "string", enum: [gvk.kind] };
  }
  const definitions: Record<string, Schema> = {};
  const pending = [...refsIn(root)];
  while (pending.length > 0) {
    const ref = pending.pop() as string;
    if (ref in definitions) continue;
    definitions[ref] = nullable(convert(definitionOf(doc, ref)));
    pending.push(...refsIn(definitions[ref]));
  }
  return { $schema: "http://json-schema.org/draft-04/schema#", ...root, definitions };
}

function definitionOf(doc: OpenApiV2, name: string): Schema {
  const definition = doc.definitions[name];
  if (definition === undefined) throw new Error(`the document refers to ${name} but lacks it`);
  // Quantity is declared a string, yet the API server also takes plain numbers (`cpu: 2`).
  if (name === QUANTITY) return { anyOf: [{ type: "string" }, { type: "number" }] };
  return definition;
}

/** The rules, applied to one schema and everything nested in it. */
function convert(schema: Schema): Schema {
  // IntOrString: a port name or number, a percentage or a count.
  if (schema.format === "int-or-string")
    return { anyOf: [{ type: "string" }, { type: "integer" }] };
  const out: Schema = {};
  for (const [keyword, value] of Object.entries(schema)) {
    // Descriptions and Kubernetes extensions do not validate anything; dropping them
    // keeps the files small.
    if (keyword === "description" || keyword.startsWith("x-")) continue;
    if (keyword === "properties") {
      const required = new Set((schema.required as string[] | undefined) ?? []);
      const properties: Record<string, Schema> = {};
      for (const [field, sub] of Object.entries(value as Record<string, Schema>)) {
        const converted = convert(sub);
        properties[field] = required.has(field) ? notNull(converted) : nullable(converted);
      }
      out.properties = properties;
    } else if (keyword === "items" || keyword === "additionalProperties") {
      out[keyword] =
        typeof value === "object" && value !== null ? notNull(convert(value as Schema)) : value;
    } else {
      out[keyword] = value;
    }
  }
  // Strict: an object with declared fields takes no others. Objects without declared
  // fields (RawExtension, FieldsV1) stay free-form, as the API server treats them.
  if (out.properties !== undefined && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}

// The API server reads an explicit null in an optional field as "not set", so optional
// fields accept null. Definitions are bundled nullable (a field naming one by $ref may
// be optional); where a $ref is required, or names a list item or map value, null is
// excluded again. Widening `type` rather than wrapping in anyOf keeps kubeconform's
// messages pointing at the offending field.
function nullable(schema: Schema): Schema {
  if (typeof schema.type === "string") return { ...schema, type: [schema.type, "null"] };
  if (Array.isArray(schema.anyOf)) return { ...schema, anyOf: [...schema.anyOf, { type: "null" }] };
  return schema; // a $ref (handled by its definition) or a schema without a type
}

function notNull(schema: Schema): Schema {
  return schema.$ref === undefined ? schema : { allOf: [schema, { not: { type: "null" } }] };
}

/** Names of the definitions a converted schema refers to. */
function refsIn(schema: unknown): string[] {
  if (Array.isArray(schema)) return schema.flatMap(refsIn);
  if (typeof schema !== "object" || schema === null) return [];
  const refs: string[] = [];
  for (const [keyword, value] of Object.entries(schema)) {
    if (keyword === "$ref" && typeof value === "string" && value.startsWith(REF_PREFIX)) {
      refs.push(value.slice(REF_PREFIX.length));
    } else {
      refs.push(...refsIn(value));
    }
  }
  return refs;
}
