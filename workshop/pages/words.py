"""The workshop pages' plain words: roles, each role's choices, and the sentences the pages say.

The outputs' short names are the dashboard's (``coprod.dashboards.words.LABELS``); only what is new to the
workshop lives here. Choice names and values are the model's (``coprod.model.choices.CHOICES``): a page
shows the words below and sends the model's values.
"""

from __future__ import annotations

# The four roles, in the model's order (coprod.model.choices.ROLES), as a participant reads them.
ROLES: dict[str, str] = {
    "resident": "Resident",
    "official": "City official",
    "academic": "Academic",
    "organiser": "Community organiser",
}
ROLE_ABOUT: dict[str, str] = {
    "resident": "You live in the city: you decide whether to come to the meeting, what you argue for, "
    "and which of what you know you share.",
    "official": "You work for the city: you decide how far to follow the room, whether to publish the "
    "reasons, and what comes first on the agenda.",
    "academic": "You work at the university: you bring evidence, facilitate the meeting, or stay out.",
    "organiser": "You run a community group: you mobilise your members, propose an experiment, or join a "
    "coalition.",
}

# Resident
ATTEND = {"come": "Come to this month's meeting", "stay_away": "Stay away"}
VIEW = "How much change do you argue for?"
VIEW_ENDS = ("keep things as they are", "change everything")
SALIENCE = "How strongly do you frame it as a matter of justice?"
SALIENCE_ENDS = ("not at all", "above all")
SHARE = "Which of your knowledge do you put on the table?"
NO_KNOWLEDGE = "You hold no knowledge items yet."
# Official
FOLLOW = "How far do you follow the room's recommendation?"
FOLLOW_ENDS = ("not at all", "completely")
PUBLISH = "Publish the reasons for the decision"
AGENDA = {"need": "Put need first on the agenda", "usual": "Keep the usual agenda"}
# Academic and organiser
ACT = {
    "academic": {
        "evidence": "Bring evidence",
        "facilitate": "Facilitate the meeting",
        "stay_out": "Stay out",
    },
    "organiser": {
        "mobilise": "Mobilise your members",
        "experiment": "Propose an experiment",
        "coalition": "Join a coalition",
    },
}
ACT_QUESTION = {"academic": "What do you do this round?", "organiser": "What does your group do this round?"}
# A choice the participant leaves alone: the agent does what the simulation would have it do.
SIMULATED = "Let the simulation decide"
LEAVE_ALONE = (
    "Anything you leave on 'Let the simulation decide' is played by the simulation, as your agent "
    "would have behaved."
)

# The join page
JOIN_TITLE = "Join the workshop"
JOIN_INTRO = (
    "Type the join code the facilitator shows, your name as the room should see it, and the role you "
    "want to play. You will play one person of a simulated city; everyone in the room plays the same city."
)
CODE = "Join code"
NAME = "Your name"
ROLE = "Your role"
MARGINALISED = "Do you play a marginalised resident?"
MARGINALISED_CHOICES = {"any": "Let the city decide", "yes": "Yes", "no": "No"}
DISTRICT = "District (leave empty to let the city decide)"
JOIN = "Join"
NEEDS_CODE = "Type the join code the facilitator shows."
NEEDS_NAME = "Type your name."
BAD_DISTRICT = "The district is a whole number (or leave it empty)."
WELCOME_BACK = "You have joined already in this browser as {name} ({role}): "
CONTINUE = "Continue as {name}"

# The participant page
YOU_PLAY = "You are {name}, playing {role} number {agent}"
OF_DISTRICT = " in district {district}"
MARGINALISED_NOTE = "Your resident is marginalised: the city listens to people like you less."
ROUND_OPEN = "Round {round} is open: choose, then press 'Send my choices'."
ROUND_CLOSED = "Waiting for the facilitator to open the next round."
PAUSED = "The facilitator has paused the workshop."
SEND = "Send my choices"
STORED = "Your choices for round {round} are in."
ALREADY = "You had already sent your choices for round {round}; the first ones count."
YOUR_CHOICES = "Your choices for round {round}:"
SECONDS_LEFT = "{seconds} s left"
NO_TOKEN = "This page needs your personal link. Join the workshop on its first page."
UNKNOWN_TOKEN = "This link does not belong to anyone in this workshop. Join on the workshop's first page."
TO_JOIN = "Go to the join page"
WHAT_YOU_KNOW = "What you know"

# The facilitator page
FACILITATOR = "Facilitator"
REFUSED = "This page is for the facilitator only. Open it with the facilitator's link."
JOIN_CODE_IS = "Join code: {code}"
WHO = "Who has joined"
MONTHS = "Months per round"
SECONDS = "Seconds to choose (0: no timer)"
OPEN = "Open round"
CLOSE = "Close round and run"
PAUSE = "Pause"
UNPAUSE = "Continue"
AUTO_CLOSE = "Close the round by itself when everyone has chosen"
EVERYONE_CHOSE = "Everyone has chosen."
CHOSEN = "{chosen} of {total} have chosen"
DESIGN = "How they meet (institutional design)"
THEORY = "How change happens (theory of change)"
REDESIGN = "Change the rules for the next round"
REWIND_TO = "Rewind to the end of round"
REWIND = "Rewind (starts a new branch)"
BRANCH = "Branch"
SWITCH = "Play this branch"
SIDE_BY_SIDE = "Two branches side by side"
NO_WORKSHOP = "No workshop is being served."

# The projector page
PROJECTOR = "The city, month {month}"
ROOM = "Whose views were dropped"
ROOM_ABOUT = (
    "Each participant's view (how much change they argued for) against the position the room decided. "
    "Marginalised residents are marked. Under a forced consensus, a participant whose view lies beyond "
    "their latitude of acceptance from the decision is dropped: their knowledge and ideas are left out of "
    "what the city tries next, and they trust officials less."
)
DROPPED = "dropped"
MARGINALISED_MARK = "marginalised"
POSITION = "Decided position: {position}"
NOT_IN_ROOM = "(not at the meeting)"
CONSENSUS = "Consensus bias and its parts"
MARKERS = "Progress markers"


def role_name(role: str) -> str:
    return ROLES.get(role, role)


def state_line(state: dict) -> str:
    """One line for a page's header: round, open or not, paused, branch, month."""
    parts = [f"Round {state.get('round', 0)}", "open" if state.get("open") else "closed"]
    if state.get("paused"):
        parts.append("paused")
    parts.append(f"month {state.get('month', 0)}")
    if state.get("branch") not in (None, "", 0, "main"):
        parts.append(f"branch {state.get('branch')}")
    return " · ".join(parts)


# What a participant's agent knows (coprod.model.choices.what_agent_knows), in plain words.
KNOWS: dict[str, str] = {
    "view": "How much change you think is needed (0 to 1)",
    "salience": "How much you see it as a matter of justice (0 to 1)",
    "theory": "Your idea of how change happens",
    "capacity": "Time and energy you have to take part (0 to 1)",
    "fatigue": "How tired of meetings you are",
    "dropout_fatigue": "The tiredness at which people stop coming",
    "took_part": "You took part last month",
    "district_need": "Your district's need (0 to 1)",
    "benefits": "What you have received from the budget",
    "fair_share": "A fair share per person in your district",
    "group": "The community group you belong to",
    "accountability": "How much you answer to citizens (0 to 1)",
    "members": "Members of your group",
    "mobilisation": "How mobilised your members are (0 to 1)",
}
NO_GROUP = "none"
TRUST = "Your trust in {role}s"
LAST_DECISION: dict[str, str] = {
    "position": "Position the last decision took (0 to 1)",
    "published": "Its reasons were published",
    "marginalised_in_the_room": "Marginalised residents in the room",
    "you_were_there": "You were in the room",
    "your_view_dropped": "Your view was dropped",
    "district_share": "Your district's share of the budget",
}
IN_THE_ROOM = "In the room: {who}"
LAST = "The last decision"
ITEM = "{kind} knowledge (item {item}): it says {says}"
ITEM_KINDS = {"lay": "Local", "expert": "Expert"}
YES_NO = {True: "yes", False: "no"}
CHANGE = "Change my choices"
