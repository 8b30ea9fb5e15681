/** Token verification failed; always surfaces as 401 UNAUTHENTICATED without details of why. */
export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}
