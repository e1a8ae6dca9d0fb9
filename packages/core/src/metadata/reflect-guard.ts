import type {} from 'reflect-metadata';
import { ReflectMetadataError } from '../common/errors';

const INSTRUCTION =
  "add `import 'reflect-metadata';` as the first line of your entry point, before any decorated class is loaded";

/** Fails fast, with the instruction, when the reflect-metadata polyfill was not imported. */
export function assertReflectMetadata(): void {
  if (typeof Reflect !== 'object' || typeof Reflect.getMetadata !== 'function') {
    throw new ReflectMetadataError(`Brigade needs the reflect-metadata polyfill: ${INSTRUCTION}`);
  }
}

/**
 * tsyringe builds a constructor's arguments from `design:paramtypes`. A class whose constructor
 * takes parameters but carries no such metadata was compiled without `emitDecoratorMetadata`
 * (esbuild, tsx). (Not a missing polyfill: Brigade loads reflect-metadata itself, before any
 * decorator of its runs, so importing it again changes nothing.)
 */
export function assertConstructorMetadata(
  target: abstract new (...args: never[]) => unknown,
): void {
  if (target.length === 0) return;
  const paramTypes = Reflect.getMetadata('design:paramtypes', target) as unknown[] | undefined;
  if (paramTypes === undefined) {
    throw new ReflectMetadataError(
      `${target.name}'s constructor takes ${target.length} parameter(s) but has no 'design:paramtypes' ` +
        'metadata, so its dependencies cannot be injected: it was compiled without decorator metadata. ' +
        'Compile with `experimentalDecorators` and `emitDecoratorMetadata` in tsconfig.json and run it ' +
        'with tsc, ts-node or SWC with decorator metadata; esbuild-based runners (tsx, esbuild) never ' +
        'emit it, whatever the tsconfig says',
    );
  }
  // tsyringe keeps @inject(token) tokens under this key, by parameter index.
  const tokens = (Reflect.getOwnMetadata('injectionTokens', target) ?? {}) as Record<
    number,
    unknown
  >;
  paramTypes.forEach((type, index) => {
    if ((type === Object || type === undefined) && tokens[index] === undefined) {
      throw new ReflectMetadataError(
        `${target.name}'s constructor parameter #${index} has no runtime type to inject: it is typed as an ` +
          'interface, a union, or a class imported with `import type` / `import { type X }`. Import the class as ' +
          'a value, or name a token with @inject(token)',
      );
    }
  });
}
