"""The domain: reservations, owners, calendar state, exports, history, iCal."""
