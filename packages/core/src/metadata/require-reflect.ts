// Imported first by the package entry, so a missing polyfill fails with Brigade's instruction
// before tsyringe fails with its own.
import { assertReflectMetadata } from './reflect-guard';

assertReflectMetadata();
