//! The CapabilityStatement served at `GET /fhir/metadata`: what a client
//! may ask of vaxgrid's FHIR endpoint, so it can check before it sends.

use serde_json::{json, Value};

use super::FHIR_VERSION;

/// `CapabilityStatement.date` is required; it is the date this statement's
/// content last changed (a pure function has no clock, and the content only
/// changes with the code).
const STATEMENT_DATE: &str = "2026-12-06";

/// The R4 CapabilityStatement of a vaxgrid server at `base_url` (e.g.
/// `https://vaxgrid.example/fhir`): Patient read, search (identifier,
/// family, birthdate) and create (conditional), Immunization read, search
/// by `patient` and create, transactions of Patient and Immunization, and
/// a synchronous `$export` of an area as NDJSON.
pub fn capability_statement(base_url: &str, software_version: &str) -> Value {
    let base = base_url.trim_end_matches('/');
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": STATEMENT_DATE,
        "publisher": "vaxgrid",
        "kind": "instance",
        "software": { "name": "vaxgrid", "version": software_version },
        "implementation": {
            "description": "vaxgrid mass-vaccination campaign server",
            "url": base
        },
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Patients and Immunizations are created or updated through \
                a transaction Bundle POSTed to the base URL.",
            "resource": [
                {
                    "type": "Patient",
                    "profile": "http://hl7.org/fhir/StructureDefinition/Patient",
                    "interaction": [
                        { "code": "read" },
                        { "code": "search-type" },
                        {
                            "code": "create",
                            "documentation": "One Patient; with If-None-Exist a match \
                                creates nothing (200), several are 412. A Patient holding \
                                an identifier already registered is that person (200)."
                        }
                    ],
                    "versioning": "no-version",
                    "readHistory": false,
                    "updateCreate": true,
                    "conditionalCreate": true,
                    "conditionalUpdate": false,
                    "conditionalDelete": "not-supported",
                    "searchParam": [
                        {
                            "name": "identifier",
                            "definition": "http://hl7.org/fhir/SearchParameter/Patient-identifier",
                            "type": "token",
                            "documentation": "system|value or value: any identifier; the \
                                citizen-ID system finds the national document, another system \
                                is the assigning authority"
                        },
                        {
                            "name": "family",
                            "definition": "http://hl7.org/fhir/SearchParameter/individual-family",
                            "type": "string",
                            "documentation": "the start of the name or of any word of it, \
                                with or without diacritics"
                        },
                        {
                            "name": "birthdate",
                            "definition": "http://hl7.org/fhir/SearchParameter/individual-birthdate",
                            "type": "date",
                            "documentation": "YYYY-MM-DD, exact"
                        }
                    ]
                },
                {
                    "type": "Immunization",
                    "profile": "http://hl7.org/fhir/StructureDefinition/Immunization",
                    "interaction": [
                        { "code": "read" },
                        { "code": "search-type" },
                        {
                            "code": "create",
                            "documentation": "One Immunization of a registered Patient. A \
                                dose of the catalogue's vaccines goes through the dose rules; \
                                a known vaccine outside the catalogue (CVX) is kept as \
                                history, counted nowhere. The same Immunization again is 200."
                        }
                    ],
                    "versioning": "no-version",
                    "readHistory": false,
                    "updateCreate": true,
                    "conditionalCreate": false,
                    "conditionalUpdate": false,
                    "conditionalDelete": "not-supported",
                    "searchParam": [{
                        "name": "patient",
                        "definition": "http://hl7.org/fhir/SearchParameter/clinical-patient",
                        "type": "reference",
                        "documentation": "The patient the immunizations are for: Patient/<id> or <id>"
                    }]
                }
            ],
            "interaction": [{
                "code": "transaction",
                "documentation": "Entries: Patient and Immunization, request method POST \
                    or PUT; an Immunization may refer to a Patient of the same Bundle by \
                    its urn:uuid fullUrl. Written whole or not at all."
            }],
            "operation": [{
                "name": "export",
                "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                "documentation": "GET [base]/$export?area=CODE&_type=Patient,Immunization: \
                    synchronous, the answer is the NDJSON itself (application/fhir+ndjson, \
                    one resource per line, each Patient followed by its Immunizations), \
                    not the asynchronous kick-off of the Bulk Data Access guide."
            }]
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declares_version_resources_and_transaction() {
        let cs = capability_statement("https://vaxgrid.example/fhir/", "0.1.0");
        assert_eq!(cs["fhirVersion"], "4.0.1");
        assert_eq!(cs["implementation"]["url"], "https://vaxgrid.example/fhir");
        assert_eq!(cs["software"]["version"], "0.1.0");
        let rest = &cs["rest"][0];
        assert_eq!(rest["resource"][1]["searchParam"][0]["name"], "patient");
        assert_eq!(rest["interaction"][0]["code"], "transaction");
        // Exactly what the server answers.
        let patient = &rest["resource"][0];
        let codes: Vec<&str> = patient["interaction"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["read", "search-type", "create"]);
        assert_eq!(patient["conditionalCreate"], true);
        let params: Vec<&str> = patient["searchParam"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(params, ["identifier", "family", "birthdate"]);
        let immunization: Vec<&str> = rest["resource"][1]["interaction"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].as_str().unwrap())
            .collect();
        assert_eq!(immunization, ["read", "search-type", "create"]);
        let operations: Vec<&str> = rest["operation"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        assert_eq!(operations, ["export"]);
    }
}
