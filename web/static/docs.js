// Starts Swagger UI on /docs (kept out of the page so the docs need no inline script).
// The bundled Swagger UI (4.x) refuses a document labelled OpenAPI 3.1, which is what FastAPI writes; the
// document is otherwise within what it renders, so the explorer reads it under a 3.0 label. /openapi.json
// itself is served unchanged.
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  fetch(root.dataset.openapiUrl)
    .then(function (r) { return r.json(); })
    .then(function (spec) {
      if (/^3\.1\./.test(spec.openapi || "")) { spec.openapi = "3.0.3"; }
      window.ui = SwaggerUIBundle({ spec: spec, dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null });
    });
});
