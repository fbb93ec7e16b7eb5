"""Authentication backend of the agents: Django's ModelBackend (passwords, axes in front of it),
except that the agent of a session is loaded with their valid habilitations in one query
(referentiel.perimeter.agent_with_habilitations, issue 15, goal 3)."""

from django.contrib.auth.backends import ModelBackend

from .perimeter import agent_with_habilitations


class AgentBackend(ModelBackend):
    def get_user(self, user_id):
        agent = agent_with_habilitations(user_id)
        return agent if agent is not None and self.user_can_authenticate(agent) else None
