import { createLaunchLinkCommand } from "./lib/launch-link.ts";
import { main } from "./lib/shared/cli.ts";

await main(createLaunchLinkCommand());
