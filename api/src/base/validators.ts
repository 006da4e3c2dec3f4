import { isEmail, ValidateBy, type ValidationOptions } from 'class-validator';

/** An email address once surrounding whitespace is dropped, as the service will store it. */
export function IsEmailAddress(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isEmailAddress',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && isEmail(value.trim()),
        defaultMessage: () => 'must be an email address',
      },
    },
    options,
  );
}
