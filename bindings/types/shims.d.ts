// comlink ships its Node adapter's types beside the .js file, not the .mjs one.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  export { default } from 'comlink/dist/esm/node-adapter';
}
