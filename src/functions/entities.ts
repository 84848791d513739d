/** Durable Entity registrations: the regional circuit breaker (src/runbooks/breaker-entity.ts). */
import * as df from "durable-functions";
import { breakerEntity } from "../runbooks/breaker-entity";
import { ENTITIES } from "../runbooks/health-contracts";

df.app.entity(ENTITIES.breaker, breakerEntity);
