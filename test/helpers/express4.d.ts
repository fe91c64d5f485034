// The `express4` dev dependency is `npm:express@4`; its API is typed like Express 5's for these tests.
declare module 'express4' {
  import express from 'express';
  export default express;
}
