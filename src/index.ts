/**
 * App entry (package.json "main"): importing a registration module registers its functions with the Functions
 * host. Keep this list complete: a module not imported here is not deployed.
 */
import "./functions/health";
import "./functions/http";
import "./functions/durable";
import "./functions/entities";
import "./functions/probes";
