declare module 'swagger-ui-react';
