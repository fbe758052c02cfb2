// tests/deploy/schema/check.cjs: validate Kubernetes objects against the API's OpenAPI
// schema, as compiled by the npm package kubernetes-models (pinned in package.json; the
// CloudNativePG Cluster by @kubernetes-models/cloudnative-pg).
// Input (stdin): a JSON array of {"source": "<file>", "doc": <object>}.
// Prints one line per object; exits 1 if any is invalid or of a kind it cannot check.
"use strict";
const fs = require("fs");

const GROUP_PACKAGES = {
  "postgresql.cnpg.io": "@kubernetes-models/cloudnative-pg",
};

function modelFor(apiVersion, kind) {
  const slash = apiVersion.indexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  const pkg = GROUP_PACKAGES[group] || "kubernetes-models";
  const mod = require(`${pkg}/${apiVersion}/${kind}`);
  return mod[kind];
}

const items = JSON.parse(fs.readFileSync(0, "utf8"));
let bad = 0;
const kinds = {};
for (const { source, doc } of items) {
  const what = `${source}: ${doc.kind} ${doc.metadata && doc.metadata.name}`;
  let Model;
  try {
    Model = modelFor(doc.apiVersion, doc.kind);
  } catch (e) {
    console.log(`FAIL ${what}: no schema for ${doc.apiVersion} ${doc.kind}`);
    bad++;
    continue;
  }
  try {
    new Model(doc).validate();
    kinds[doc.kind] = (kinds[doc.kind] || 0) + 1;
  } catch (e) {
    console.log(`FAIL ${what}: ${e.message}`);
    bad++;
  }
}
const summary = Object.entries(kinds).map(([k, n]) => `${k} ${n}`).join(", ");
console.log(`schema check: ${items.length - bad} valid, ${bad} invalid (${summary})`);
process.exit(bad ? 1 : 0);
