import { main } from "./lib/shared/cli.ts";
import { createSmokeCommand } from "./lib/smoke.ts";

await main(createSmokeCommand());
