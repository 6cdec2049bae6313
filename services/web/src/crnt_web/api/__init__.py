"""The web's routes: public pages, sign-in, the agency's, the COPIL's and the animators'."""
