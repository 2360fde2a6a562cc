-- What FHIR resources carried beyond what vaxgrid maps (extensions, other
-- names, contacts, narrative…), kept verbatim as JSON so that a resource
-- read back has every element it was sent with. One row per resource.
CREATE TABLE fhir_extras (
    resource_type TEXT NOT NULL,
    id            TEXT NOT NULL,
    extra         TEXT NOT NULL,
    PRIMARY KEY (resource_type, id)
);
