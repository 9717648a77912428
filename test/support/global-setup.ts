// Makes "vitest" resolvable here so the ProvidedContext augmentation below applies (tsc: TS2664 otherwise).
import type {} from "vitest";
import type { TestProject } from "vitest/node";
import { startMoto } from "../../scripts/local-stack/moto.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the moto server shared by every test file of the run. */
    motoEndpoint: string;
  }
}

/**
 * Starts one moto server for the whole run. Test files run in parallel against it, so each one
 * isolates itself with unique resource names instead of resetting moto.
 */
export default async function setup({ provide }: Pick<TestProject, "provide">): Promise<() => Promise<void>> {
  const moto = await startMoto();
  provide("motoEndpoint", moto.endpoint);
  return () => moto.stop();
}
